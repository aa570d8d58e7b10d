job "example" {
  group "web" {
    task "app" {
      driver = "docker"

      config {
        image    = ["drover-demo:v1"]
        ports    = "http"
        labels   = ["a"]
        shm_size = 1e400

        logging "syslog" {
          type = "syslog"
        }
      }
    }
  }
}
