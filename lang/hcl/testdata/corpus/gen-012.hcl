job "cache-warm-00012" {
  type     = "service"
  labels   = {
    tier                = "infra"
    "example.com/owner" = "alice"
    cost-center         = "cc-3300"
    team                = "data"
  }
  meta     = {
    ticket  = "OPS-2288"
    git_sha = "7697514d8c3c555c5002fdfe267d5c4c0f09f62c"
    owner   = "alice@example.com"
  }
  priority = 36
  selector {
    match_labels = {
      "topology.kubernetes.io/zone" = "us-east-1b"
      zone                          = "c"
      region                        = "eu-central"
    }
  }
  task {
    engine = "wasm"
    image  = "https://modules.internal.example.com/api/v4.wasm"
    cmd    = ["--input", "/in/data.json", "--mode", "dry-run"]
    resources {
      cpus   = 1.5
      memory = "1536M"
    }
  }
  rollout {
    strategy     = "rolling"
    max_parallel = 38
    health_check {
      max_error_rate    = 0.5
      min_healthy_time  = "90s"
      success_threshold = 1
    }
  }
}
