# The seed's rules, for the configuration these pipelines apply (copy beside the root module).
prefix            = "automation"
production_branch = "master"
branches          = ["dev/feature*", "dev/fix*"]
ttl               = "72h"
max_age           = "720h"
protected         = ["automation-master"]
