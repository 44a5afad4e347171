# Job spec muster/v1.

job "web-00009-0" {
  type        = "daemon"
  description = "Nightly report over the previous day's orders, mailed to finance."
  labels      = {
    "app.kubernetes.io/part-of" = "shop"
    env                         = "dev"
    "example.com/owner"         = "sre"
    team                        = "platform"
  }
  selector {
    match_expressions = ["gpu", "!node.example.com/draining", "topology.kubernetes.io/zone in (us-east-1a,us-east-1b)"]
  }
  task {
    engine  = "wasm"
    image   = "https://modules.internal.example.com/worker/v1.wasm"
    env     = {
      LOG_LEVEL = "warn"
      REGION    = "info"
    }
    workdir = "/srv/app"
    resources {
      cpus   = "500m"
      memory = "1536M"
    }
  }
  timeouts {
    total     = "90s"
    execution = "2h"
    queue     = 3352
  }
}

job "cache-warm-00009-1" {
  type        = "ops"
  description = "Periodic cleanup of temporary files older than a week."
  task {
    engine  = "docker"
    image   = "docker.io/library/nginx:2024-06-01"
    cmd     = ["sh", "-c", "exec /app/run --config /etc/app/config.yaml"]
    env     = {
      GOMAXPROCS    = "info"
      FEATURE_FLAGS = "http://proxy.internal:3128"
      PORT          = "postgres://db.internal:5432/app"
      TZ            = "search-v2,fast-checkout"
      http_proxy    = "search-v2,fast-checkout"
    }
    network = "host"
  }
}
