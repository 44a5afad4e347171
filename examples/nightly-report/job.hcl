# Builds yesterday's sales report in a container from three inputs and keeps
# two outputs as content-addressed documents.
#
#   muster hash examples/nightly-report/job.hcl --var image_tag=2.4.0

variable "image_tag" {
  type        = string
  default     = "2.3.1"
  description = "The tag of the report-builder image."
}

variable "exports_dir" {
  type    = string
  default = "/srv/exports"
}

locals {
  registry = "registry.local:5000"
  # The HTML template, stored with `muster doc put template.html`.
  template = "sha256:0fc45900cad365a8e8b3c8bc4b8d27648f7b041fabc79349c0e219a7efe080a0"
}

job "nightly-report" {
  namespace   = "analytics"
  type        = "batch"
  description = "Builds the nightly sales report from the day's exports."
  priority    = 70

  labels = {
    team                        = "analytics"
    "app.kubernetes.io/part-of" = "reporting"
  }
  meta = {
    owner   = "data-platform@example.com"
    runbook = "https://wiki.example.com/runbooks/nightly-report"
  }

  selector {
    match_labels      = { storage = "ssd" }
    match_expressions = ["zone=eu-west-1a"]
  }

  task {
    engine  = "docker"
    image   = "${local.registry}/analytics/report-builder:${var.image_tag}"
    cmd     = ["build-report", "--date=yesterday", "--out=/out"]
    env     = { REPORT_FORMAT = "csv", TZ = upper("utc") }
    workdir = "/work"

    resources {
      cpus   = "500m"
      memory = "1Gi"
    }

    input {
      source = "file://${var.exports_dir}/sales.parquet"
      target = "/in/sales.parquet"
    }
    input {
      source = "https://data.example.com/fx/rates-latest.json"
      target = "/in/fx-rates.json"
    }
    input {
      source = local.template
      target = "/in/template.html"
    }

    output { path = "/out/report.csv" }
    output { path = "/out/report.html" }
  }

  timeouts {
    queue     = "10m"
    execution = "1h30m"
    total     = 7200
  }
}
