"""The spiders: ``ecommerce`` (any schema.org shop) and ``finance`` (the market's daily quotes)."""
