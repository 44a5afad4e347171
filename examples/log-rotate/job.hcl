# Rotates the logs once on three named nodes, right now, and keeps the state
# file of each run. A run that fails is not retried and not rolled back.

variable "nodes" {
  type        = list(string)
  default     = ["node-a", "node-b", "node-c"]
  description = "The nodes whose logs are rotated."
}

locals {
  state = "/out/logrotate.status"
}

job "log-rotate" {
  namespace      = "infra"
  type           = "ops"
  restart_policy = "never"

  selector {
    match_ids = var.nodes
  }

  task {
    engine = "exec"
    cmd = [
      "/bin/sh", "-c",
      "mkdir -p \"$MUSTER_ROOT/out\" && exec logrotate --state \"$MUSTER_ROOT${local.state}\" /etc/logrotate.conf",
    ]
    env     = { LANG = "C.UTF-8" }
    workdir = "/var/log"

    resources {
      cpus   = 0.1
      memory = "32M"
    }

    output {
      path = local.state
    }
  }

  rollout {
    strategy                 = "immediate"
    max_failed_nodes         = 0
    max_failed_nodes_percent = 0
    no_auto_rollback         = true
  }

  timeouts {
    execution = "5m"
    total     = "15m"
  }
}
