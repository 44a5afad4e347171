# The shop's API: three containers on the bridge network, each listening on
# 8080 inside its container and published on a host port the node picks.
# Every 5 seconds a health check GETs /healthz on that port.
#
#   muster hash examples/api/job.hcl --var image_tag=2.4.0

variable "image_tag" {
  type        = string
  default     = "2.3.0"
  description = "The tag of the API image to run."
}

locals {
  listen = { http = 8080, metrics = 9102 }
}

job "api" {
  namespace = "shop"
  type      = "service"
  count     = 3
  labels    = { app = "api", tier = "backend" }

  selector {
    match_labels = { role = "app" }
  }

  task {
    engine  = "docker"
    image   = "registry.local:5000/shop/api:${var.image_tag}"
    cmd     = ["--listen=:${local.listen.http}", "--metrics-listen=:${local.listen.metrics}"]
    env     = { LOG_LEVEL = "info" }
    network = "bridge"

    port {
      name = "http"
      to   = local.listen.http
    }
    port {
      name = "metrics"
      to   = local.listen.metrics
    }

    resources {
      cpus   = 1
      memory = "512M"
    }
  }

  rollout {
    strategy     = "rolling"
    max_parallel = 34

    health_check {
      deadline          = "2m"
      min_healthy_time  = "20s"
      interval          = "5s"
      success_threshold = 3

      probe {
        http {
          port   = "http"
          path   = "/healthz"
          status = [200, 204]
        }
        timeout = "1s"
      }
    }
  }
}
