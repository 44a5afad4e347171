# Generated from the service catalog; edit there.

job "backup-00005" {
  type        = "service"
  description = "Serves the public web front end."
  labels      = {
    team    = "platform"
    release = "canary"
  }
  priority    = 68
  # only nodes in the primary region
  selector {
    match_expressions = ["disk != hdd"]
  }
  task {
    engine     = "docker"
    image      = "registry.local:5000/team/api:latest"
    entrypoint = ["/bin/sh", "-c"]
    cmd        = ["report", "--since", "24h", "--format", "csv"]
    env        = {
      TZ = "us-east"
    }
    network    = "none"
    # sized from last month's p99
    resources {
      cpus   = 1.5
      memory = "4Gi"
    }
  }
  timeouts {
    total     = "6h"
    execution = "2h"
    queue     = 2868
  }
}
