-- Every schema.org ItemAvailability keeps its own meaning: a sold-out, discontinued, back-ordered
-- or in-store-only product is no longer folded into out_of_stock, preorder or in_stock.

ALTER TABLE products DROP CONSTRAINT products_availability_known;
ALTER TABLE products ADD CONSTRAINT products_availability_known
    CHECK (availability IN ('in_stock', 'out_of_stock', 'preorder', 'presale', 'backorder',
                            'sold_out', 'discontinued', 'limited_availability', 'in_store_only',
                            'online_only', 'unknown'));

ALTER TABLE product_prices DROP CONSTRAINT product_prices_availability_known;
ALTER TABLE product_prices ADD CONSTRAINT product_prices_availability_known
    CHECK (availability IN ('in_stock', 'out_of_stock', 'preorder', 'presale', 'backorder',
                            'sold_out', 'discontinued', 'limited_availability', 'in_store_only',
                            'online_only', 'unknown'));
