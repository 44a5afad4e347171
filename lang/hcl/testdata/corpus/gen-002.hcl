job "gateway-00002" {
  namespace = "prod"
  type      = "service"
  labels    = {
    "app.kubernetes.io/part-of" = "shop"
    cost-center                 = "cc-1001"
    "example.com/owner"         = "alice"
    "app.kubernetes.io/name"    = "reporter"
  }
  priority  = 33
  count     = 15
  selector {
    match_expressions = ["region in (us-west, us-east, eu-central)", "env=prod", "arch=amd64"]
  }
  task {
    engine = "wasm"
    image  = "https://modules.internal.example.com/log-ship/v8.wasm"
    env    = {
      CACHE_TTL     = ""
      LOG_LEVEL     = "warn"
      http_proxy    = "postgres://db.internal:5432/app"
      FEATURE_FLAGS = "http://proxy.internal:3128"
    }
    resources {
      memory = "512M"
    }
  }
}
