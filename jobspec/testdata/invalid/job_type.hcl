job "example" {
  type = "system"
}
