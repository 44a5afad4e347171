# Summarizes one exact version of the nightly report with a WebAssembly
# module. The input names the job version by its content address (see
# `muster hash examples/nightly-report/job.hcl`).

variable "report_hash" {
  type        = string
  default     = "sha256:aba0df0029168efca32b308416a4ae1189cce8b94c1effaa8bf71ea965190ab7"
  description = "The content address of the nightly-report version to digest."
}

locals {
  report = "/in/report.csv"
}

job "report-digest" {
  namespace   = "analytics"
  description = "Turns the nightly report into a one-page digest."

  selector {
    match_expressions = [format("arch in (%s)", join(", ", ["arm64", "amd64"]))]
  }

  task {
    engine = "wasm"
    image  = "https://modules.example.com/digest/v0.4.0/digest.wasm"
    cmd    = ["--in", local.report, "--out", "/out/digest.txt"]
    env    = { DIGEST_TOP_N = "10" }

    resources {
      cpus   = 0.25
      memory = "64M"
    }

    input {
      source = "job:analytics/nightly-report@${var.report_hash}#/out/report.csv"
      target = local.report
    }
    output {
      path = "/out/digest.txt"
    }
  }

  timeouts {
    execution = "5m"
  }
}
