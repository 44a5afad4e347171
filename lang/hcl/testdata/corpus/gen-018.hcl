job "metrics-00018" {
  namespace   = "infra"
  type        = "service"
  description = "Renders thumbnails for newly uploaded media — runs on GPU nodes when available."
  labels      = {
    release     = "stable"
    env         = "prod"
    cost-center = "cc-2040"
  }
  priority    = 28
  count       = 14
  selector {
    match_labels      = {
      arch   = "arm64"
      region = "eu-central"
    }
    match_expressions = ["arch=amd64", "topology.kubernetes.io/zone in (us-east-1a,us-east-1b)", "gpu"]
  }
  task {
    engine  = "docker"
    image   = "registry.local/web:2.0.0-rc.1"
    cmd     = ["migrate", "up"]
    env     = {
      LOG_LEVEL = "info"
    }
    workdir = "/srv/app"
    resources {
      cpus = "500m"
    }
  }
  rollout {
    strategy         = "canary"
    canary_percent   = 35
    max_failed_nodes = 30
  }
}
