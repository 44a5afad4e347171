job "ingest-00017" {
  namespace      = "staging"
  labels         = {
    team = "data"
    env  = "dev"
  }
  priority       = 8
  count          = 6
  restart_policy = "never"
  selector {
    match_expressions = ["env=prod", "gpu"]
  }
  task {
    engine  = "docker"
    image   = "registry.local/web:1.4.2"
    cmd     = ["serve", "--port", "8080"]
    env     = {
      PORT          = "us-east"
      DATABASE_URL  = "1"
      FEATURE_FLAGS = "http://proxy.internal:3128"
      CACHE_TTL     = "it's \"quoted\""
    }
    network = "bridge"
    resources {
      cpus   = 1.5
      memory = "1G"
    }
  }
  rollout {
    strategy         = "rolling"
    max_failed_nodes = 45
  }
}
