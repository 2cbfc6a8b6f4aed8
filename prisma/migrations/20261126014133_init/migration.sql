-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('VIEWER', 'ANNOTATOR', 'ADMIN');

-- CreateEnum
CREATE TYPE "LabelValue" AS ENUM ('NORMAL', 'ABNORMAL');

-- CreateEnum
CREATE TYPE "StudyStatus" AS ENUM ('EMPTY', 'READY');

-- CreateEnum
CREATE TYPE "ModelKind" AS ENUM ('CLASSIFIER', 'COIN_GENERATOR', 'SINGLA_GENERATOR');

-- CreateEnum
CREATE TYPE "SegmentationMethod" AS ENUM ('COIN', 'RISE', 'SCORE_CAM', 'LAYER_CAM', 'SINGLA');

-- CreateEnum
CREATE TYPE "JobStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED');

-- CreateTable
CREATE TABLE "Organization" (
    "id" UUID NOT NULL,
    "slug" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Organization_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "User" (
    "id" UUID NOT NULL,
    "email" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "User_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Membership" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "role" "Role" NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Membership_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ApiKey" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "userId" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "prefix" TEXT NOT NULL,
    "secretSha256" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "lastUsedAt" TIMESTAMPTZ(3),
    "revokedAt" TIMESTAMPTZ(3),

    CONSTRAINT "ApiKey_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Study" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "title" TEXT NOT NULL,
    "studyInstanceUID" TEXT,
    "status" "StudyStatus" NOT NULL DEFAULT 'EMPTY',
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Study_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Series" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "seriesInstanceUID" TEXT,
    "description" TEXT NOT NULL DEFAULT '',
    "sourceFormat" TEXT NOT NULL,
    "dimsIJK" INTEGER[],
    "spacingMm" DOUBLE PRECISION[],
    "originLPS" DOUBLE PRECISION[],
    "directionLPS" DOUBLE PRECISION[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Series_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Slice" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "seriesId" UUID NOT NULL,
    "sliceIndex" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "spacingMm" DOUBLE PRECISION[],
    "positionLPS" DOUBLE PRECISION[],
    "storageKey" TEXT NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Slice_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Label" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "sliceId" UUID,
    "value" "LabelValue" NOT NULL,
    "authorId" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Label_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "GroundTruthMask" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "sliceId" UUID NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "rle" INTEGER[],
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "GroundTruthMask_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Model" (
    "id" UUID NOT NULL,
    "key" TEXT NOT NULL,
    "kind" "ModelKind" NOT NULL,
    "version" TEXT NOT NULL,
    "sha256" TEXT NOT NULL,
    "spec" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Model_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SegmentationJob" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "studyId" UUID NOT NULL,
    "method" "SegmentationMethod" NOT NULL,
    "modelKey" TEXT NOT NULL,
    "params" JSONB NOT NULL,
    "status" "JobStatus" NOT NULL DEFAULT 'QUEUED',
    "totalSlices" INTEGER NOT NULL,
    "completedSlices" INTEGER NOT NULL DEFAULT 0,
    "failedSlices" INTEGER NOT NULL DEFAULT 0,
    "errorCode" TEXT,
    "createdById" UUID,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "startedAt" TIMESTAMPTZ(3),
    "finishedAt" TIMESTAMPTZ(3),

    CONSTRAINT "SegmentationJob_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "SliceResult" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "jobId" UUID NOT NULL,
    "sliceId" UUID NOT NULL,
    "sliceIndex" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "maskRle" INTEGER[],
    "bbox" INTEGER[],
    "areaPx" INTEGER NOT NULL,
    "pAbnormalBefore" DOUBLE PRECISION NOT NULL,
    "pAbnormalAfter" DOUBLE PRECISION NOT NULL,
    "flipped" BOOLEAN NOT NULL,
    "timingsMs" JSONB NOT NULL,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "SliceResult_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AuditEvent" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "actorId" UUID,
    "action" TEXT NOT NULL,
    "entityType" TEXT NOT NULL,
    "entityId" TEXT NOT NULL,
    "data" JSONB NOT NULL DEFAULT '{}',
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AuditEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxMessage" (
    "id" UUID NOT NULL,
    "organizationId" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "dispatchedAt" TIMESTAMPTZ(3),

    CONSTRAINT "OutboxMessage_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "Organization_slug_key" ON "Organization"("slug");

-- CreateIndex
CREATE UNIQUE INDEX "User_email_key" ON "User"("email");

-- CreateIndex
CREATE INDEX "Membership_userId_idx" ON "Membership"("userId");

-- CreateIndex
CREATE UNIQUE INDEX "Membership_organizationId_userId_key" ON "Membership"("organizationId", "userId");

-- CreateIndex
CREATE UNIQUE INDEX "ApiKey_secretSha256_key" ON "ApiKey"("secretSha256");

-- CreateIndex
CREATE INDEX "ApiKey_organizationId_idx" ON "ApiKey"("organizationId");

-- CreateIndex
CREATE INDEX "Study_organizationId_createdAt_id_idx" ON "Study"("organizationId", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Series_organizationId_studyId_idx" ON "Series"("organizationId", "studyId");

-- CreateIndex
CREATE INDEX "Slice_organizationId_studyId_sliceIndex_idx" ON "Slice"("organizationId", "studyId", "sliceIndex");

-- CreateIndex
CREATE UNIQUE INDEX "Slice_seriesId_sliceIndex_key" ON "Slice"("seriesId", "sliceIndex");

-- CreateIndex
CREATE INDEX "Label_organizationId_studyId_idx" ON "Label"("organizationId", "studyId");

-- CreateIndex
CREATE INDEX "Label_sliceId_idx" ON "Label"("sliceId");

-- CreateIndex
CREATE UNIQUE INDEX "GroundTruthMask_sliceId_key" ON "GroundTruthMask"("sliceId");

-- CreateIndex
CREATE INDEX "GroundTruthMask_organizationId_idx" ON "GroundTruthMask"("organizationId");

-- CreateIndex
CREATE UNIQUE INDEX "Model_key_key" ON "Model"("key");

-- CreateIndex
CREATE INDEX "SegmentationJob_organizationId_studyId_idx" ON "SegmentationJob"("organizationId", "studyId");

-- CreateIndex
CREATE INDEX "SegmentationJob_organizationId_status_idx" ON "SegmentationJob"("organizationId", "status");

-- CreateIndex
CREATE INDEX "SliceResult_organizationId_jobId_sliceIndex_idx" ON "SliceResult"("organizationId", "jobId", "sliceIndex");

-- CreateIndex
CREATE UNIQUE INDEX "SliceResult_jobId_sliceId_key" ON "SliceResult"("jobId", "sliceId");

-- CreateIndex
CREATE INDEX "AuditEvent_organizationId_createdAt_idx" ON "AuditEvent"("organizationId", "createdAt");

-- CreateIndex
CREATE INDEX "OutboxMessage_dispatchedAt_createdAt_idx" ON "OutboxMessage"("dispatchedAt", "createdAt");

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Membership" ADD CONSTRAINT "Membership_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "ApiKey" ADD CONSTRAINT "ApiKey_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Study" ADD CONSTRAINT "Study_organizationId_fkey" FOREIGN KEY ("organizationId") REFERENCES "Organization"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Series" ADD CONSTRAINT "Series_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Slice" ADD CONSTRAINT "Slice_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Slice" ADD CONSTRAINT "Slice_seriesId_fkey" FOREIGN KEY ("seriesId") REFERENCES "Series"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Label" ADD CONSTRAINT "Label_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Label" ADD CONSTRAINT "Label_sliceId_fkey" FOREIGN KEY ("sliceId") REFERENCES "Slice"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "GroundTruthMask" ADD CONSTRAINT "GroundTruthMask_sliceId_fkey" FOREIGN KEY ("sliceId") REFERENCES "Slice"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SegmentationJob" ADD CONSTRAINT "SegmentationJob_studyId_fkey" FOREIGN KEY ("studyId") REFERENCES "Study"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SliceResult" ADD CONSTRAINT "SliceResult_jobId_fkey" FOREIGN KEY ("jobId") REFERENCES "SegmentationJob"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "SliceResult" ADD CONSTRAINT "SliceResult_sliceId_fkey" FOREIGN KEY ("sliceId") REFERENCES "Slice"("id") ON DELETE CASCADE ON UPDATE CASCADE;
