variable "log_level" {
  type    = string
  default = "warn"
}

job "backup-00015" {
  type        = "service"
  description = "Keeps the search index warm after deploys."
  priority    = 16
  count       = 4
  selector {
    match_labels = {
      arch = "arm64"
    }
  }
  task {
    engine  = "wasm"
    image   = "https://modules.internal.example.com/log-ship/v3.wasm"
    env     = {
      LOG_LEVEL     = var.log_level
      DATABASE_URL  = "us-east"
      http_proxy    = "us-east"
      REGION        = "300s"
      FEATURE_FLAGS = "8080"
      GOMAXPROCS    = "UTC"
    }
    network = "bridge"
    resources {
      memory = "512M"
    }
    input {
      source = "https://artifacts.example.com/scanner/149.tar.gz"
      target = "/etc/app/config.yaml"
    }
    input {
      source = "file:///data/gateway/seed.txt"
      target = "/in/data.csv"
    }
    output {
      path = "/out/result.csv"
    }
    output {
      path = "/out/logs/run.log"
    }
    output {
      path = "/out/report.json"
    }
  }
  rollout {
    strategy = "rolling"
  }
}
