-- A draw's frozen list is stored compressed (hongdun_store::PackedList: LZ4
-- chunks of about 4 MiB of the canonical text); `data` stays '' for those
-- rows and keeps the text of lists written before. The immutability triggers
-- of migration 0004 cover the new column as they cover the row.
-- Keep in step with the SQLite one.
ALTER TABLE inspection_draw_list ADD COLUMN lz4 BYTEA;
