# Job spec muster/v1.

job "search-00013" {
  type        = "service"
  description = "Renders thumbnails for newly uploaded media — runs on GPU nodes when available."
  labels      = {
    team = "search"
  }
  priority    = 5
  count       = 10
  task {
    engine = "exec"
    cmd    = ["/usr/bin/env", "python3", "/opt/etl/run.py", "--hour", "last"]
    env    = {
      http_proxy   = "2"
      DATABASE_URL = "1"
      LOG_LEVEL    = "debug"
      TZ           = "info"
    }
    resources {
      cpus   = 1
      memory = "4Gi"
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
    strategy         = "rolling"
    max_parallel     = 71
    health_check {
      max_error_rate    = 0
      failure_threshold = 7
    }
    max_failed_nodes = 32
  }
}
