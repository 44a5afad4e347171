# A request filter compiled to WebAssembly, six copies on the edge nodes
# outside test and staging points of presence. A new version runs on two
# canaries and is promoted on its own once they are healthy.

variable "module" {
  type        = string
  description = "The filter module, stored with `muster doc put filter.wasm`."
  default     = "sha256:8d2d3ad71f706b1818e00797a4bad631a56753d96a08bb5bf24fd2dbb233ca05"
}

variable "excluded_pops" {
  type    = set(string)
  default = ["test", "staging"]
}

job "edge-filter" {
  namespace = "edge"
  type      = "service"
  count     = 6

  selector {
    match_labels      = { tier = "edge" }
    match_expressions = ["pop notin (${join(", ", var.excluded_pops)})"]
  }

  task {
    engine = "wasm"
    image  = var.module
    cmd    = ["--rules", "/etc/filter/rules.json"]
    env    = { FILTER_MODE = "enforce" }

    resources {
      cpus   = "250m"
      memory = "128M"
    }

    input {
      source = "https://config.example.com/edge/rules.json"
      target = "/etc/filter/rules.json"
    }
  }

  rollout {
    strategy     = "canary"
    canary_count = 2
    auto_promote = true

    health_check {
      min_healthy_time = "2m"
      max_error_rate   = 0.01
    }
  }
}
