job "report-00004" {
  type        = "ops"
  description = "ETL step: reads raw events, writes hourly aggregates."
  labels      = {
    team = "platform"
    tier = "infra"
  }
  meta        = {
    owner = "alice@example.com"
  }
  task {
    engine = "docker"
    image  = "docker.io/library/nginx:1.4.2"
    env    = {
      GOMAXPROCS = "300s"
    }
    input {
      source = "job:staging/web-612@sha256:1bcbbd9f8576f226128b59e4c6f83db49d6ac8b31122f32cca5f562340a50ef6#/out/report.json"
      target = "/in/archive.tar.gz"
    }
  }
  rollout {
    strategy         = "rolling"
    max_parallel     = 27
    health_check {
      success_threshold = 10
    }
    max_failed_nodes = 10
  }
}
