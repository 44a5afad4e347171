job "mailer-00014" {
  type        = "batch"
  description = "Backs up the primary database to the object store; retries on failure."
  labels      = {
    release                     = "stable"
    "app.kubernetes.io/part-of" = "core"
    cost-center                 = "cc-1001"
  }
  count       = 15
  selector {
    match_labels = {
      "topology.kubernetes.io/zone" = "eu-central-1a"
      region                        = "us-east"
      zone                          = "b"
    }
  }
  task {
    engine  = "docker"
    image   = "registry.internal.example.com/data/etl-runner:stable"
    env     = {
      TZ        = "2"
      LOG_LEVEL = "error"
      PORT      = "1"
    }
    workdir = "/var/lib/job"
    resources {
      cpus   = 1.5
      memory = "64M"
    }
  }
}
