job "example" {
  group "web" {
    count = NOMAD_COUNT

    task "app" {
      driver = "docker"

      config {
        image = "drover-demo:v1"
        args  = ["${upper(attr.kernel.name)}"]
      }

      env {
        CLASS = "%{ if node.class == "large" }big%{ endif }"
      }
    }
  }
}
