-- The workload main.c runs, in two parts: everything before the line "-- reopen" on the
-- first connection, everything after it on a second connection to the same file (after
-- sqlite3_close). Every statement that returns rows is printed. Nothing here depends on the
-- clock except the one check that says so.

PRAGMA journal_mode = DELETE;
PRAGMA page_size;

CREATE TABLE customer (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  city TEXT NOT NULL
);
CREATE TABLE orders (
  id INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customer(id),
  item TEXT NOT NULL,
  qty INTEGER NOT NULL,
  price REAL NOT NULL,
  placed TEXT NOT NULL
);

-- A committed transaction: 40 customers and 3000 orders (generated, deterministic).
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO customer (id, name, city)
  SELECT i, 'customer-' || printf('%02d', i),
         CASE i % 4 WHEN 0 THEN 'Oslo' WHEN 1 THEN 'Lima' WHEN 2 THEN 'Kyoto' ELSE 'Accra' END
  FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
INSERT INTO orders (customer_id, item, qty, price, placed)
  SELECT (i * 7) % 40 + 1,
         CASE i % 5 WHEN 0 THEN 'bolt' WHEN 1 THEN 'nut' WHEN 2 THEN 'gear' WHEN 3 THEN 'spring' ELSE 'washer' END,
         i % 9 + 1,
         (i % 13) * 1.25 + 0.5,
         date('2026-01-01', '+' || (i % 365) || ' days')
  FROM n;
COMMIT;
SELECT 'committed', (SELECT count(*) FROM customer), (SELECT count(*) FROM orders);

-- A transaction rolled back: none of it may stay.
BEGIN;
DELETE FROM orders WHERE item = 'gear';
INSERT INTO customer (id, name, city) VALUES (41, 'ghost', 'Nowhere');
UPDATE orders SET qty = qty * 100;
SELECT 'inside', count(*), sum(qty) FROM orders;
ROLLBACK;
SELECT 'rolled back', count(*), sum(qty), (SELECT count(*) FROM customer WHERE id = 41) FROM orders;

-- A savepoint: the inner part undone, the outer part kept.
BEGIN;
UPDATE customer SET city = 'Lima' WHERE id = 4;
SAVEPOINT inner_part;
DELETE FROM orders WHERE customer_id = 4;
ROLLBACK TO inner_part;
RELEASE inner_part;
COMMIT;
SELECT 'savepoint', city, (SELECT count(*) FROM orders WHERE customer_id = 4) FROM customer WHERE id = 4;

-- Indexes, and the plans that use them.
CREATE INDEX orders_by_customer ON orders (customer_id);
CREATE INDEX orders_by_item_placed ON orders (item, placed);
CREATE UNIQUE INDEX customer_by_name ON customer (name);
ANALYZE;
EXPLAIN QUERY PLAN SELECT * FROM orders WHERE customer_id = 17;
EXPLAIN QUERY PLAN SELECT count(*) FROM orders WHERE item = 'nut' AND placed BETWEEN '2026-03-01' AND '2026-03-31';
SELECT 'nuts in march', count(*), sum(qty) FROM orders WHERE item = 'nut' AND placed BETWEEN '2026-03-01' AND '2026-03-31';
SELECT 'unique index', count(*) FROM customer WHERE name = 'customer-17';

-- A join with aggregates, grouped and filtered.
SELECT c.city, count(DISTINCT c.id) AS customers, count(o.id) AS orders,
       sum(o.qty) AS units, printf('%.2f', sum(o.qty * o.price)) AS revenue,
       min(o.placed), max(o.placed)
FROM customer c JOIN orders o ON o.customer_id = c.id
GROUP BY c.city
HAVING count(o.id) > 100
ORDER BY revenue DESC;

SELECT o.item, count(*), printf('%.3f', avg(o.price)), max(o.qty), total(o.qty)
FROM orders o
GROUP BY o.item
ORDER BY o.item;

-- The top customers by revenue: a join, a subquery and a window function.
SELECT rank() OVER (ORDER BY revenue DESC, name) AS place, name, city, printf('%.2f', revenue)
FROM (SELECT c.name, c.city, sum(o.qty * o.price) AS revenue
      FROM customer c JOIN orders o ON o.customer_id = c.id
      GROUP BY c.id)
ORDER BY place
LIMIT 5;

-- Customers without orders of washers: a left join.
SELECT 'no washers', count(*) FROM customer c
  LEFT JOIN orders o ON o.customer_id = c.id AND o.item = 'washer'
  WHERE o.id IS NULL;

-- Text, numbers and dates computed by SQLite itself (its own printf, not libc's).
SELECT 'math', 7 / 2, 7 / 2.0, 1e300 * 10, -0.0, round(2.675, 2), abs(-9223372036854775807);
SELECT 'dates', date('2026-02-28', '+1 day'), strftime('%j', '2026-12-31'), julianday('2026-01-01');
SELECT 'text', upper('sqlite'), length('rumpxen'), substr('amalgamation', 3, 5), hex('Xen'), quote('it''s');

-- The clock: whatever the date is, it is after 2020 (checks time() through libc).
SELECT 'clock after 2020', julianday('now') > julianday('2020-01-01');

-- The last change before the file is closed.
INSERT INTO customer (id, name, city) VALUES (42, 'last-one', 'Oslo');
PRAGMA integrity_check;

-- reopen

SELECT 'reopened', (SELECT count(*) FROM customer), (SELECT count(*) FROM orders), sum(qty) FROM orders;
SELECT 'persisted', name, city FROM customer WHERE id IN (4, 42) ORDER BY id;
SELECT 'indexes', name FROM sqlite_schema WHERE type = 'index' AND name NOT LIKE 'sqlite_%' ORDER BY name;
SELECT 'stat1 rows', count(*) FROM sqlite_stat1;
EXPLAIN QUERY PLAN SELECT * FROM orders WHERE customer_id = 17;
PRAGMA integrity_check;
PRAGMA page_count;
PRAGMA journal_mode;
