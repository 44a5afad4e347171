# Job spec muster/v1.

job "gateway-00006" {
  namespace = "payments"
  type      = "batch"
  labels    = {
    release = "v1.4.2"
    tier    = "infra"
  }
  count     = 8
  selector {
    match_expressions = ["env == prod", "region in (us-east,us-west)"]
  }
  task {
    engine  = "docker"
    image   = "docker.io/library/nginx:1.4"
    cmd     = ["serve", "--port", "8080"]
    env     = {
      TZ             = "it's \"quoted\""
      GOMAXPROCS     = "8080"
      _INTERNAL_MODE = "search-v2,fast-checkout"
      REGION         = "2"
      DATABASE_URL   = "us-east"
      http_proxy     = "postgres://db.internal:5432/app"
    }
    workdir = "/data"
    network = "bridge"
    resources {
      cpus = 2
    }
  }
  rollout {
    strategy         = "immediate"
    health_check {
      interval         = "1h"
      deadline         = 3826
      min_healthy_time = "1h"
    }
    max_failed_nodes = 6
  }
  timeouts {
    total     = "10m"
    queue     = "10s"
    execution = "45s"
  }
}
