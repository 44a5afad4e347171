# Owned by the platform team. Changes need a review from #sre.

job "report-00008" {
  type     = "service"
  labels   = {
    "app.kubernetes.io/part-of" = "analytics"
  }
  priority = 44
  count    = 9
  selector {
    match_labels = {
      region = "us-east"
    }
    match_ids    = ["node-12"]
  }
  task {
    engine = "wasm"
    image  = "/opt/modules/etl.wasm"
    input {
      source = "https://artifacts.example.com/search/734.tar.gz"
      target = "/in/data.csv"
    }
  }
  rollout {
    strategy     = "rolling"
    max_parallel = 60
  }
  timeouts {
    queue = "2m"
    total = "5m"
  }
}
