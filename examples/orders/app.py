"""Orders API on AWS Lambda behind API Gateway."""

import json

ORDERS = {}


def create_order(event, context):
    order = json.loads(event.get("body") or "{}")
    order_id = str(len(ORDERS) + 1)
    ORDERS[order_id] = order
    return {"statusCode": 201, "body": json.dumps({"id": order_id, **order})}


def list_orders(event, context):
    return {"statusCode": 200, "body": json.dumps(list(ORDERS.values()))}
