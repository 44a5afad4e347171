variable "image_tag" {
  type    = string
  default = "stable"
}

variable "log_level" {
  type    = string
  default = "info"
}

job "sync-00003" {
  type           = "daemon"
  description    = "Renders thumbnails for newly uploaded media — runs on GPU nodes when available."
  labels         = {
    release = ""
  }
  meta           = {
    owner  = "bob@example.com"
    ticket = "OPS-6729"
  }
  restart_policy = "on-failure"
  task {
    engine  = "docker"
    image   = "registry.local:5000/team/api:${var.image_tag}"
    cmd     = ["sh", "-c", "exec /app/run --config /etc/app/config.yaml"]
    env     = {
      _INTERNAL_MODE = "1"
      LOG_LEVEL      = var.log_level
    }
    workdir = "/var/lib/job"
    resources {
      cpus   = 1.5
      memory = "1536M"
    }
    input {
      source = "job:payments/web-38@sha256:b9917af9f287564a524e6c9477a93d85442821dd324dcd9eca296625722ca7bb#/out/data"
      target = "/in/config.json"
    }
    input {
      source = "https://artifacts.example.com/thumbnailer/659.tar.gz"
      target = "/in/archive.tar.gz"
    }
    input {
      source = "https://artifacts.example.com/sync/430.tar.gz"
      target = "/in/data.csv"
    }
  }
  rollout {
    strategy         = "rolling"
    max_parallel     = 48
    max_failed_nodes = 44
    no_auto_rollback = true
  }
}
