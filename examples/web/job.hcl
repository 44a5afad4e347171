# The shop's web frontend: four long-running containers in two regions,
# released through a canary on a quarter of the nodes.
#
#   muster hash examples/web/job.hcl --var image_tag=1.5.0 --var replicas=6

variable "image_tag" {
  type        = string
  default     = "1.4.2"
  description = "The tag of the web image to run."

  validation {
    condition     = length(regexall("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.image_tag)) == 1
    error_message = "The image_tag must be a version such as 1.4.2."
  }
}

variable "replicas" {
  type    = number
  default = 4
}

locals {
  registry = "registry.local:5000"
  regions  = ["us-west", "us-east"]
}

job "web" {
  namespace = "shop"
  type      = "service"
  count     = var.replicas
  labels    = { app = "web", tier = "frontend" }

  selector {
    match_expressions = [
      "region in (${join(",", sort(local.regions))})",
      "env == prod",
    ]
  }

  task {
    engine     = "docker"
    image      = "${local.registry}/shop/web:${var.image_tag}"
    entrypoint = ["/bin/web"]
    cmd        = ["--listen=:8080", "--log-format=json"]
    network    = "bridge"
    env = {
      LOG_LEVEL    = "info"
      SHOP_API_URL = "http://api.shop.internal:9000"
    }

    resources {
      cpus   = 2
      memory = "2Gi"
    }
  }

  rollout {
    strategy       = "canary"
    canary_percent = 25
    max_parallel   = 25

    health_check {
      deadline          = "10m"
      min_healthy_time  = "1m"
      interval          = "15s"
      success_threshold = 3
      max_error_rate    = 0.05
    }

    max_failed_nodes         = 2
    max_failed_nodes_percent = 20
  }

  timeouts {
    queue = "15m"
  }
}
