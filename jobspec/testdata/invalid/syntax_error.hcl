job "example" {
  group "web" {
    count = 2

