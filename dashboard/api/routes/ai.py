"""The AI assistant: /ai/clip-prompt, /ai/search-assistant, /ai/assistant (map filters).

Gemini answers when GEMINI_API_KEY is set, the offline parser otherwise; `source` and `notes`
say which and why.
"""
from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from dashboard.api.deps import Engine
from dashboard.api.schemas.ai import (AssistantRequest, ClipPromptOut, MapAssistantOut, SearchAssistantOut,
                                      SearchAssistantRequest)

router = APIRouter(prefix="/ai", tags=["assistant"])


@router.post("/clip-prompt", response_model=ClipPromptOut)
async def clip_prompt(body: AssistantRequest, engine: Engine) -> ClipPromptOut:
    return ClipPromptOut.model_validate(await run_in_threadpool(engine.assistant.clip_prompt, body.query))


@router.post("/search-assistant", response_model=SearchAssistantOut)
async def search_assistant(body: SearchAssistantRequest, engine: Engine) -> SearchAssistantOut:
    extra = body.to_filters()
    answer = await run_in_threadpool(
        engine.assistant.run, body.query, top_k=body.top_k, threshold=body.threshold, multi_model=body.multi_model,
        model=body.model, models=body.models, translate=body.translate, extra=None if extra.empty else extra,
        today=body.today, use_gemini=body.use_gemini)
    return SearchAssistantOut.model_validate(answer)


@router.post("/assistant", response_model=MapAssistantOut)
async def map_assistant(body: AssistantRequest, engine: Engine) -> MapAssistantOut:
    answer = await run_in_threadpool(engine.assistant.map_filters, body.query, today=body.today,
                                     use_gemini=body.use_gemini)
    return MapAssistantOut.model_validate(answer)
