-- CreateTable
CREATE TABLE "WebSocketConnection" (
    "connectionId" TEXT NOT NULL,
    "organizationId" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "afterSlice" INTEGER NOT NULL DEFAULT -1,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expiresAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "WebSocketConnection_pkey" PRIMARY KEY ("connectionId")
);

-- CreateIndex
CREATE INDEX "WebSocketConnection_jobId_idx" ON "WebSocketConnection"("jobId");
