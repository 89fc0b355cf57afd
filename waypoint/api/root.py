from ninja import NinjaAPI

api = NinjaAPI(title="Waypoint API", version="1", urls_namespace="api")
