variable "image" {
  type = string
}

variable "tag" {}

job "example" {
  group "web" {
    task "app" {
      driver = "docker"
      config {
        image = "${var.image}:${var.tag}"
      }
    }
  }
}
