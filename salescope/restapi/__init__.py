"""The REST API framework: tokens, authentication, errors, pagination, concurrency.

How to write an endpoint (in your app's ``api.py``; the root API mounts ``router``)::

    from ninja import Router, Schema
    from salescope.restapi import errors
    from salescope.restapi.concurrency import expected_version, set_etag
    from salescope.restapi.pagination import Pagination, paginate
    from salescope.restapi.schemas import PathId

    router = Router(tags=["things"])

    @router.get("/things", response={200: list[ThingOut], **errors.LIST})
    @paginate(Pagination)                      # page, page_size (max 500), count, next, previous
    def list_things(request, filters: Query[ThingFilters]):
        return things_for(request.auth)        # a visibility-scoped selector, a queryset

    @router.get("/things/{thing_id}", response={200: ThingOut, **errors.ITEM})
    def get_thing(request, thing_id: PathId, response: HttpResponse):
        thing = get_object_or_404(things_for(request.auth), pk=thing_id)  # invisible → 404
        set_etag(response, thing.version)      # ETag: "<version>"
        return thing

    @router.patch("/things/{thing_id}", response={200: ThingOut, **errors.WRITE})
    def patch_thing(request, thing_id: PathId, payload: ThingPatch, response: HttpResponse):
        thing = get_object_or_404(things_for(request.auth), pk=thing_id)
        version = expected_version(request, payload.version)   # If-Match or body; none → 428
        thing = services.update_thing(thing=thing, actor=request.auth,
                                      changes=payload.dict(exclude_unset=True, exclude={"version"}),
                                      expected_version=version)
        set_etag(response, thing.version)
        return thing

Rules:

* No ``auth=`` on routers: the root API authenticates every operation (personal token as
  ``Authorization: Bearer <token>``, or the session with CSRF); ``request.auth`` is the
  ``org.User``. Only ``/health`` is public.
* Call services and selectors, nothing else; let their exceptions propagate. The handlers
  of :mod:`salescope.restapi.errors` answer ``ValidationError`` → 422,
  ``PermissionDenied`` → 403, ``ConflictError`` → 409 (412 with ``If-Match``),
  ``Http404``/``DoesNotExist`` → 404, all with ``{"error": {"code", "message", "fields"}}``.
* Declare every status an operation can answer (``**errors.LIST/ITEM/CREATE/WRITE``) and
  type every response with a ``Schema``: schemathesis checks the answers against the
  OpenAPI description (``salescope/restapi/tests/test_schemathesis.py``).
* Lists filter and sort like the UI lists: :mod:`salescope.restapi.lists`.
* Schema class names are global in the OpenAPI description: pick unique ones (prefix them
  with your resource, e.g. ``WebhookOut``), or one silently replaces another.
* Use ``paginate`` from :mod:`salescope.restapi.pagination` (it also works with
  ``from __future__ import annotations``).
* Ids in paths are ``PathId`` (bounded, so huge numbers are a 422, not a crash). Money is a
  decimal string plus a currency code.
"""
