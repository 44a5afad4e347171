# Two jobs in one file: a nightly database backup and the cleanup of old
# backups on every database node.

locals {
  namespace = "data"
  dump      = "/backup/orders.dump"
}

job "db-backup" {
  namespace   = local.namespace
  description = "Dumps the orders database and keeps the dump as a document."

  selector {
    match_labels = { role = "db-primary" }
  }

  task {
    engine  = "docker"
    image   = "registry.local:5000/data/pg-dump:16"
    cmd     = ["pg_dump", "--format=custom", "--file=${local.dump}", "orders"]
    env     = { PGHOST = "localhost", PGUSER = "backup" }
    network = "host"

    resources {
      memory = "512M"
    }

    output {
      path = local.dump
    }
  }

  timeouts {
    execution = "1h"
  }
}

job "db-backup-prune" {
  namespace = local.namespace
  type      = "ops"

  selector {
    match_expressions = ["role in (db-primary,db-replica)"]
  }

  task {
    engine = "exec"
    cmd    = ["find", "/var/backups/db", "-name", "*.dump", "-mtime", "+14", "-delete"]

    resources {
      cpus = 0.2
    }
  }
}
