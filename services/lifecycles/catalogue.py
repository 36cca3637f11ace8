"""Every lifecycle, for the permission table, the guard on status columns and the article index."""

from typing import Any

from services.lifecycles.core import Lifecycle
from services.lifecycles.honour import HONOUR, REREVIEW
from services.lifecycles.nomination import NOMINATION
from services.lifecycles.objection import OBJECTION
from services.lifecycles.publicity import PUBLICITY
from services.lifecycles.review_round import ROUND

LIFECYCLES: tuple[Lifecycle[Any], ...] = (NOMINATION, ROUND, PUBLICITY, OBJECTION, HONOUR, REREVIEW)
