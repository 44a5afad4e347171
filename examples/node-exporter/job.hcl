# A metrics exporter on every monitored node, including nodes that join
# later. Nodes in maintenance and gateways are left out.

variable "version" {
  type    = string
  default = "v1.8.2"
}

locals {
  port   = 9100
  config = "/etc/node-exporter/web.yml"
}

job "node-exporter" {
  namespace = "monitoring"
  type      = "daemon"
  priority  = 90

  selector {
    match_expressions = [
      "monitoring",   # the node has a "monitoring" label
      "!maintenance", # and no "maintenance" label
      "role!=gateway",
    ]
  }

  task {
    engine  = "docker"
    image   = "registry.local:5000/prom/node-exporter:${var.version}"
    cmd     = ["--web.listen-address=:${local.port}", "--web.config.file=${local.config}"]
    network = "host"

    resources {
      cpus   = "0.25"
      memory = "64Mi"
    }

    input {
      source = "file:///etc/muster/node-exporter/web.yml"
      target = local.config
    }
  }

  rollout {
    strategy     = "rolling"
    max_parallel = 20

    health_check {
      deadline         = "2m"
      min_healthy_time = "20s"
    }
  }
}
