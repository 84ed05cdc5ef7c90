"""Upload records: the rows behind `/api/v1/files` and `__files__`. The bytes themselves are in
the storage backend (`pipehouse.files.storage`), under each row's `storage_key`."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, func, select

from pipehouse.store.db import Database
from pipehouse.store.models import UploadedFile
from pipehouse.store.results import rows_changed


class FileStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, row: UploadedFile) -> UploadedFile:
        async with self.db.session() as session:
            session.add(row)
            await session.commit()
        return row

    async def get(self, file_id: str) -> UploadedFile | None:
        async with self.db.session() as session:
            return await session.get(UploadedFile, file_id)

    async def get_many(self, file_ids: Collection[str]) -> Sequence[UploadedFile]:
        if not file_ids:
            return []
        async with self.db.session() as session:
            found = await session.execute(
                select(UploadedFile).where(UploadedFile.id.in_(list(file_ids)))
            )
            return found.scalars().all()

    async def page(
        self, user_id: str | None, offset: int, limit: int
    ) -> tuple[Sequence[UploadedFile], int]:
        """One page, newest first (Open WebUI's order), and the total; all users' files when
        `user_id` is None."""
        query = select(UploadedFile)
        if user_id is not None:
            query = query.where(UploadedFile.user_id == user_id)
        async with self.db.session() as session:
            total = await session.scalar(select(func.count()).select_from(query.subquery()))
            found = await session.execute(
                query.order_by(UploadedFile.updated_at.desc(), UploadedFile.id.desc())
                .offset(offset)
                .limit(limit)
            )
            return found.scalars().all(), int(total or 0)

    async def delete(self, file_id: str) -> bool:
        async with self.db.session() as session:
            result = await session.execute(delete(UploadedFile).where(UploadedFile.id == file_id))
            await session.commit()
            return bool(rows_changed(result))

    async def delete_all(self) -> list[str]:
        """Remove every row; returns their storage keys, for the bytes to go too."""
        async with self.db.session() as session:
            keys = (await session.execute(select(UploadedFile.storage_key))).scalars().all()
            await session.execute(delete(UploadedFile))
            await session.commit()
            return list(keys)
