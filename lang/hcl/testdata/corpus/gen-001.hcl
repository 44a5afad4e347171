# Job spec muster/v1.

job "indexer-00001" {
  type        = "batch"
  description = "Keeps the search index warm after deploys."
  labels      = {
    "app.kubernetes.io/name"    = "reporter"
    "app.kubernetes.io/part-of" = "analytics"
  }
  meta        = {
    owner = "bob@example.com"
  }
  priority    = 81
  count       = 2
  selector {
    match_labels = {
      region = "us-east"
      disk   = "nvme"
    }
  }
  task {
    engine = "wasm"
    image  = "https://modules.internal.example.com/mailer/v8.wasm"
    env    = {
      GOMAXPROCS    = "UTC"
      http_proxy    = "http://proxy.internal:3128"
      FEATURE_FLAGS = "us-east"
      TZ            = "us-east"
      CACHE_TTL     = "UTC"
      PORT          = "1"
    }
    resources {
      cpus   = 8
      memory = "128M"
    }
    output {
      path = "/out/report.json"
    }
  }
  timeouts {
    execution = "10m"
    total     = "90s"
    queue     = "45s"
  }
}
