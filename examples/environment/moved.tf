# Until this example wrote one module block per service and per cache. These blocks move the
# objects of a state made by that layout to the module instances above, so that upgrading
# an environment plans no change (`terrane plan` lists each move as "has moved to").
moved {
  from = module.service_nats
  to   = module.service["nats-server"]
}
moved {
  from = module.service_bruin
  to   = module.service["bruin-bridge"]
}
moved {
  from = module.service_backend
  to   = module.service["dispatch-portal-backend"]
}
moved {
  from = module.redis_main
  to   = module.redis["main"]
}
moved {
  from = module.redis_customer_cache
  to   = module.redis["customer-cache"]
}
moved {
  from = module.redis_tnba_feedback
  to   = module.redis["tnba-feedback"]
}
