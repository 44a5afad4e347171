job "ingest-00011" {
  api_version = "muster/v1"
  type        = "service"
  description = "Canary-released API gateway for the mobile apps."
  selector {
    match_labels      = {
      region = "eu-central"
      arch   = "arm64"
    }
    match_expressions = ["disk != hdd", "region in (us-east,us-west)", "gpu"]
  }
  task {
    engine  = "docker"
    image   = "registry.internal.example.com/data/etl-runner:stable"
    env     = {
      DATABASE_URL = "UTC"
      LOG_LEVEL    = "info"
    }
    workdir = "/work"
    network = "bridge"
    # do not lower without a load test
    resources {
      cpus   = 0.25
      memory = "768Mi"
    }
    input {
      source = "https://artifacts.example.com/gateway/771.tar.gz"
      target = "/data/seed.txt"
    }
    input {
      source = "job:default/metrics-758@sha256:93804c0b8eebcaec7e019718a8447d9c59382b16bf2cb83f63887d524a8f908c#/out/data"
      target = "/etc/app/config.yaml"
    }
    input {
      source = "https://artifacts.example.com/etl/208.tar.gz"
      target = "/in/data.csv"
    }
  }
  rollout {
    strategy                 = "canary"
    canary_count             = 4
    max_failed_nodes         = 40
    max_failed_nodes_percent = 50
  }
}
