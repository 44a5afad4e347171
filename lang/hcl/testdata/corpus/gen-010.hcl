# Generated from the service catalog; edit there.

job "thumbnailer-00010" {
  type     = "service"
  priority = 71
  task {
    engine  = "docker"
    image   = "registry.local:5000/team/api:1.4"
    env     = {
      PORT           = "info"
      _INTERNAL_MODE = "8080"
      TZ             = "us-east"
    }
    workdir = "/srv/app"
    network = "none"
    input {
      source = "job:data/thumbnailer-411@sha256:7f15160b32949b5c4dfdfddbe0a3e9d6d40af4562e95b5c88a15efa475f04426"
      target = "/data/seed.txt"
    }
    input {
      source = "file:///data/thumbnailer/input.csv"
      target = "/in/data.csv"
    }
    input {
      source = "job:infra/cleanup-199@sha256:2cdb0c216724cb96f1d674cdc80466da7f1d2f45544f6a9d00db8c5541b556c2#/out/report.json"
      target = "/etc/app/config.yaml"
    }
    input {
      source = "sha256:58e8c1e2e7c539196ee1a78d848e51cc2ce2d09f963f2ef64158dd91418b5e6d"
      target = "/models/current.bin"
    }
  }
  rollout {
    strategy       = "canary"
    canary_percent = 41
    health_check {
      interval = "6h"
    }
  }
}
