"""Service records (志愿服务记录, 下沉服务) and points (奉献积分): append-only ledgers, rules, stars, certificates."""
