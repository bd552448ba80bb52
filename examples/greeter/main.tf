data "archive_file" "greeter" {
  type        = "zip"
  source_dir  = "${path.module}"
  output_path = "${path.module}/../build/greeter.zip"
  excludes    = ["main.tf"]
}

resource "yandex_function" "greeter" {
  name               = "greeter"
  runtime            = "python312"
  entrypoint         = "main.handler"
  memory             = 128
  execution_timeout  = "5"
  user_hash          = data.archive_file.greeter.output_base64sha256
  content {
    zip_filename = data.archive_file.greeter.output_path
  }
}
