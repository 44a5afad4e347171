# Generated from the service catalog; edit there.

job "backup-00007-0" {
  namespace = "data"
  labels    = {
    tier                = "batch"
    cost-center         = "cc-3300"
    release             = "2024.06"
    "example.com/owner" = "bob"
  }
  meta      = {
    ticket  = "OPS-3280"
    runbook = "https://wiki.example.com/runbooks/indexer"
    trigger = "nightly"
  }
  count     = 6
  task {
    engine = "wasm"
    image  = "https://modules.internal.example.com/backup/v2.wasm"
    cmd    = ["--input", "/in/data.json", "--mode", "dry-run"]
    resources {
      cpus   = "250m"
      memory = "128M"
    }
  }
}

job "ingest-00007-1" {
  type        = "service"
  description = "Nightly report over the previous day's orders, mailed to finance."
  labels      = {
    team                     = "data"
    "example.com/owner"      = "sre"
    cost-center              = "cc-2040"
    "app.kubernetes.io/name" = "reporter"
  }
  meta        = {
    git_sha = "030c5f5562840e8f006ab1cd8113dd2790a0ebbb"
    owner   = "alice@example.com"
  }
  priority    = 15
  selector {
    match_labels      = {
      "topology.kubernetes.io/zone" = "eu-central-1a"
    }
    match_expressions = ["!node.example.com/draining"]
  }
  task {
    engine  = "docker"
    image   = "docker.io/library/nginx:2024-06-01"
    cmd     = ["worker", "--queue", "default", "--concurrency", "4"]
    env     = {
      CACHE_TTL  = "postgres://db.internal:5432/app"
      http_proxy = "postgres://db.internal:5432/app"
      GOMAXPROCS = "search-v2,fast-checkout"
      TZ         = "300s"
      REGION     = "300s"
    }
    network = "host"
  }
  timeouts {
    total     = 432
    execution = "1h"
    queue     = 3063
  }
}
