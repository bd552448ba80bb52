"""What deploy would reject that the developer's machine accepts: imports the deployment does not
contain, stdlib modules and syntax the declared runtime lacks, environment variables the function
does not declare. Read with `ast` only: user code is never imported or run."""
