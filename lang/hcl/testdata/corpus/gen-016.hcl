job "backup-00016" {
  namespace   = "prod"
  type        = "daemon"
  description = "Rotates and ships logs from every node to the archive."
  labels      = {
    tier = "infra"
    team = "search"
  }
  priority    = 65
  # pinned after incident OPS-4121
  selector {
    match_expressions = ["arch=amd64"]
  }
  task {
    engine = "docker"
    image  = "quay.io/prometheus/node-exporter:2024-06-01"
    cmd    = ["sh", "-c", "exec /app/run --config /etc/app/config.yaml"]
    resources {
      cpus   = "2"
      memory = "256M"
    }
    input {
      source = "file:///data/scanner/seed.txt"
      target = "/models/current.bin"
    }
    input {
      source = "https://artifacts.example.com/thumbnailer/486.tar.gz"
      target = "/in/data.csv"
    }
    input {
      source = "sha256:b4b78f14a78f98841f5e0f3399b53f49b1b0a0e1690445af4c9e5de7ffa120aa"
      target = "/in/config.json"
    }
    input {
      source = "https://artifacts.example.com/web/704.tar.gz"
      target = "/in/archive.tar.gz"
    }
  }
}
