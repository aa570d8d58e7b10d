job "example" {
  type = "cron"
}
