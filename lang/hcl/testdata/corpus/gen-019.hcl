job "log-ship-00019" {
  type        = "daemon"
  description = "Serves the public web front end."
  labels      = {
    "example.com/owner"         = "bob"
    "app.kubernetes.io/part-of" = "core"
    tier                        = "batch"
  }
  meta        = {
    runbook = "https://wiki.example.com/runbooks/web"
    git_sha = "bf87d9889385bf6cca3f7f49a963cdabc12c1573"
  }
  selector {
    match_labels      = {
      region = "eu-central"
      zone   = "c"
      arch   = "amd64"
    }
    match_expressions = ["disk != hdd", "arch=amd64"]
  }
  task {
    engine = "wasm"
    image  = "/opt/modules/cleanup.wasm"
    resources {
      cpus   = "0.5"
      memory = "4Gi"
    }
    input {
      source = "file:///data/gateway/input.csv"
      target = "/models/current.bin"
    }
    input {
      source = "job:infra/search-722@sha256:72c6cd026fbe4428279b86b675c0bbeac776de5b695a8a68114da5a18d47fad0#/out/result.csv"
      target = "/in/config.json"
    }
    input {
      source = "job:ml/api-676@sha256:da9cbd1ce81f4ddfed5b54c7c7ec2de3a1cb410369964b5e6ed0c5e970bf937e#/out/result.csv"
      target = "/in/data.csv"
    }
  }
  rollout {
    strategy                 = "rolling"
    max_failed_nodes_percent = 25
  }
  timeouts {
    total     = "2h"
    execution = 2867
  }
}
