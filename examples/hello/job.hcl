# The smallest useful job: run one program once, on any node.
job "hello" {
  task {
    engine = "exec"
    cmd    = ["echo", "hello from muster"]
  }
}
