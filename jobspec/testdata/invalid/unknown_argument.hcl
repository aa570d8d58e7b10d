job "example" {
  datacenters = ["*"]

  group "web" {
    task "app" {
      driver = "docker"

      config {
        image = "drover-demo:v1"
      }

      foo = "bar"
      kill_timout = "5s"
    }
  }
}
