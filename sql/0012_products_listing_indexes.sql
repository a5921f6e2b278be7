-- The products listing's documented filters and sorts each read an index in keyset order
-- (the column, then id): two were missing.
-- `?source=` pages in id order: the unique (source, external_id) index finds a source's rows
-- but not in id order, so every page of a large source sorted all of them.
CREATE INDEX products_source_idx ON products (source, id);
-- `?sort=name` / `-name`: without it every page sorted the whole table.
CREATE INDEX products_name_idx ON products (name, id);
