# See the runbook before changing the rollout.

locals {
  namespace = "payments"
}

job "scanner-00000" {
  namespace   = local.namespace
  type        = "batch"
  description = "Serves the public web front end."
  labels      = {
    "example.com/owner" = "bob"
  }
  meta        = {
    owner = "sre-team@example.com"
  }
  count       = 4
  task {
    engine = "wasm"
    image  = "https://modules.internal.example.com/gateway/v4.wasm"
    cmd    = ["--input", "/in/data.json", "--mode", "fast"]
    env    = {
      DATABASE_URL   = "postgres://db.internal:5432/app"
      _INTERNAL_MODE = "search-v2,fast-checkout"
      http_proxy     = ""
    }
    resources {
      cpus   = 8
      memory = "2G"
    }
    input {
      source = "job:default/cleanup-663@sha256:fb959c7ce4639e71c75155b3f045ab2623a28c145cc9637065098c17443eddca"
      target = "/in/config.json"
    }
    input {
      source = "sha256:c8ef9534e2a27c55ba1cd47a5d69ea9274fadf8bc89346d5c1bb7c69427ba08e"
      target = "/etc/app/config.yaml"
    }
    input {
      source = "sha256:9d6d9a27fe8ee1aa35271d9580cb04dc94ed26658ff2df214c0a18ced197fc2b"
      target = "/models/current.bin"
    }
    input {
      source = "job:ml/indexer-645@sha256:af69262890b6cdf2e52a6b15aa44c7b2673b5eafd329de1acde83f4658e155b5"
      target = "/in/archive.tar.gz"
    }
    output {
      path = "/out/metrics.prom"
    }
    output {
      path = "/out/result.csv"
    }
  }
  timeouts {
    queue = 3521
    total = "15m"
  }
}
