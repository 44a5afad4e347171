# Every night at 03:15 on the clock of Berlin, lists the scratch files of
# muster in /tmp that are older than a week, on one worker node. A run still
# going at the next launch makes that launch skip (prohibit_overlap, the
# default). On the night the clocks skip 02:00-03:00 and on the night they
# repeat it, 03:15 comes once, as every night.

variable "max_age_days" {
  type        = number
  default     = 7
  description = "Scratch files older than this many days are listed."
}

job "nightly-cleanup" {
  namespace   = "infra"
  description = "Lists the muster scratch files in /tmp older than a week."
  labels      = { team = "platform" }

  selector {
    match_labels = { role = "worker" }
  }

  task {
    engine = "exec"
    cmd    = ["/bin/sh", "-c", "find /tmp -name 'muster-*' -mtime +${var.max_age_days} -print"]

    resources {
      cpus   = "100m"
      memory = "16M"
    }
  }

  timeouts {
    execution = "10m"
  }

  schedule {
    cron      = "15 3 * * *"
    time_zone = "Europe/Berlin"
  }
}
